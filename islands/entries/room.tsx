import "./inbox.tsx";
import { Call } from "../Call.tsx";
import { mount } from "../mount.ts";

mount("Call", Call);
