import { z } from "zod";

/** An email address as typed: trimmed, at most 254 characters. */
export const emailSchema = z.string().trim().max(254).pipe(z.email());
