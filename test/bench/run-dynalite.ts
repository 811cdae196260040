// dynalite in a process of its own for the scale benchmark, so the orchestrator's large heap (the
// simulated org, the primed states) never pauses the database the timed runs talk to.
// Prints `DYNALITE <endpoint>` once listening; stops when its stdin closes.
import { startEmbeddedDynamoDb } from '../../functions/local/embedded-dynamodb.ts';

const db = await startEmbeddedDynamoDb();
process.stdout.write(`DYNALITE ${db.endpoint}\n`);
process.stdin.resume();
process.stdin.once('end', () => {
  void db.stop().then(() => process.exit(0));
});
