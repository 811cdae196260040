// The two secrets a run holds, and the check that a text carries neither (nor the webhook's secret path).
import { WEBHOOK_SECRET_PATH } from '../../../functions/local/slack-receiver.ts';
import { STAND_IN_ADMIN_KEY } from '../../../functions/local/usage-api-stand-in.ts';

/** The admin key, the webhook's path and each of its secret segments. */
export const SECRET_TEXTS: readonly string[] = [
  STAND_IN_ADMIN_KEY,
  // The key without its "sk-admin-" prefix: an echo that keeps the distinctive part is a leak too.
  STAND_IN_ADMIN_KEY.slice('sk-admin-'.length),
  WEBHOOK_SECRET_PATH,
  ...WEBHOOK_SECRET_PATH.split('/').filter((segment) => segment !== '' && segment !== 'services'),
];

/** Every 16-character piece of the admin key and the webhook token that holds a letter: a partial echo. */
const PIECES: readonly string[] = [STAND_IN_ADMIN_KEY, WEBHOOK_SECRET_PATH.split('/').at(-1) ?? ''].flatMap(
  (secret) => {
    const pieces: string[] = [];
    for (let i = 0; i + 16 <= secret.length; i++) pieces.push(secret.slice(i, i + 16));
    return pieces.filter((piece) => /[a-z]/i.test(piece));
  },
);

/** The secrets, or pieces of them, found in a text (none, when all is well). */
export function secretsIn(text: string): string[] {
  return [...SECRET_TEXTS, ...PIECES].filter((secret) => text.includes(secret));
}
