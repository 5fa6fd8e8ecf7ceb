-- A knock still waiting when its meeting ends is closed with it ('ended'), so that the waiting
-- page says so at once and the hosts' lobbies empty.
alter table knocks drop constraint knocks_status_check;
alter table knocks add constraint knocks_status_check
  check (status in ('waiting', 'admitted', 'denied', 'expired', 'cancelled', 'ended'));
