import "./inbox.tsx";
import { Invite } from "../Invite.tsx";
import { mount } from "../mount.ts";

mount("Invite", Invite);
