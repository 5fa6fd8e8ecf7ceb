-- The language a person chose with the switch on any page: their pages and the API's messages
-- speak it on every device. Null: not chosen (the browser's Accept-Language decides).
alter table users add column lang text check (lang in ('en', 'fr'));
