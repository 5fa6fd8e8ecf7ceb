import { Inbox } from "../Inbox.tsx";
import { mount } from "../mount.ts";

mount("Inbox", Inbox);
