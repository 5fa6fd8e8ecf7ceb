// Places held for sockets between the upgrade's check and the socket's opening, so that upgrades
// arriving together cannot all pass a cap before any of them opens.

// An admitted upgrade that never opened (the client went away during the handshake) gives
// its place back after this long.
const ADMISSION_MS = 10_000;

/** The places held now, in all and by key (an account, or a knock). */
export class Admission {
  #held = 0;
  #byKey = new Map<string, number>();

  /** Places held in all (counted with the open sockets against the instance's cap). */
  get held(): number {
    return this.#held;
  }

  /**
   * Holds a place for `key` when it has fewer than `max` sockets, `open` counted with those
   * held: "full" when it has not, else a function that gives the place back (called when the
   * socket opens or fails, or on its own after 10 s).
   */
  hold(key: string, open: number, max: number): "full" | (() => void) {
    const pending = this.#byKey.get(key) ?? 0;
    if (open + pending >= max) return "full";
    this.#held++;
    this.#byKey.set(key, pending + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.#held--;
      const left = (this.#byKey.get(key) ?? 1) - 1;
      if (left > 0) this.#byKey.set(key, left);
      else this.#byKey.delete(key);
    };
    const timer = setTimeout(release, ADMISSION_MS);
    return release;
  }
}
