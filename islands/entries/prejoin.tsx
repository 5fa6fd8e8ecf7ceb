import "./inbox.tsx";
import { PreJoin } from "../PreJoin.tsx";
import { mount } from "../mount.ts";

mount("PreJoin", PreJoin);
