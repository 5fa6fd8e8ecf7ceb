import "./inbox.tsx";
import { ConnectionPage } from "../ConnectionTest.tsx";
import { mount } from "../mount.ts";

mount("ConnectionPage", ConnectionPage);
