// The state table's shape, shared by the CDK stack (lib/) and local tables (dynalite).
// One table holds every kind of item, told apart by the partition key's prefix:
//   pk "series#<projectId>#<apiKeyId|->"  sk "state"   baseline and incident of one series
//   pk "meta"                            sk "watermark" | "lease" | "open-incidents"
//   pk "outbox"                          sk "<bucketStart>#<alertId>"   alerts and their delivery
//   pk "names"                           sk "directory"  cached project and key names
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** Unix seconds after which DynamoDB's TTL removes the item. */
export const TTL_ATTRIBUTE = 'expiresAt';
