import "./inbox.tsx";
import { Dashboard } from "../Dashboard.tsx";
import { mount } from "../mount.ts";

mount("Dashboard", Dashboard);
