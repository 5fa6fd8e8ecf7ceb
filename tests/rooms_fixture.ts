// An app wired to a RoomService double, with a host who has contacts.
import { RoomServiceDouble } from "./livekit_double.ts";
import {
  addContacts,
  call,
  registerUser,
  startApp,
  TEST_LIVEKIT_KEY,
  TEST_LIVEKIT_SECRET,
  type TestApp,
  type TestUser,
} from "./harness.ts";

export interface RoomsFixture {
  app: TestApp;
  livekit: RoomServiceDouble;
  host: TestUser;
  /** Contacts of the host. */
  friends: TestUser[];
  /** Not a contact of anyone. */
  stranger: TestUser;
}

export async function withRooms(
  fn: (f: RoomsFixture) => Promise<void>,
  options: Parameters<typeof startApp>[0] = {},
) {
  const livekit = new RoomServiceDouble(TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET);
  const app = await startApp({
    ...options,
    env: { LIVEKIT_API_URL: livekit.url, ...options.env },
  });
  try {
    const host = await registerUser(app, { display_name: "Hana Host" });
    const friends = [
      await registerUser(app, { display_name: "Fred" }),
      await registerUser(app, { display_name: "Fiona" }),
    ];
    const stranger = await registerUser(app, { display_name: "Stan" });
    await addContacts(app, host, friends);
    await fn({ app, livekit, host, friends, stranger });
  } finally {
    await app.stop();
    await livekit.close();
  }
}

/**
 * Creates a room through the API and returns its JSON. Open to its link unless `fields` say
 * otherwise: the lobby's tests choose `knock` and `invited` themselves.
 */
export async function createRoom(
  app: TestApp,
  host: TestUser,
  fields: Partial<
    {
      room_name: string;
      call_type: string;
      participants: string[];
      allow_guests: boolean;
      entry: "open" | "knock" | "invited";
    }
  > = {},
) {
  const res = await call(app, "POST", "/api/livekit/rooms", {
    token: host.token,
    json: { room_name: "Standup", call_type: "video", participants: [], entry: "open", ...fields },
  });
  if (res.status !== 201) {
    throw new Error(`create room failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body;
}
