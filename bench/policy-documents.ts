// The generated policy documents of bench/validate-documents.ts, in a module of their own so the loader's
// tests can check that exactly these documents take the fast path (the bench runs when imported).

export function backup(i: number): string {
  const providers = [
    ["s3://acme-backups", "s3-creds"],
    ["gcp://acme-backups", "gcp-creds"],
    ["azure://acme-backups", "azure-creds"],
  ] as const;
  const [location, secret] = providers[i % 3] as readonly [string, string];
  const schedule = ["@midnight", "CRON_TZ=Europe/Paris 30 2 * * MON-FRI", "0 */6 * * *", "15 3 1 * *"][i % 4];
  return `apiVersion: db.orange.com/v2
kind: CassandraBackup
metadata:
  name: backup-${i}
  namespace: ns-${i % 20}
  annotations:
    casskeeper.io/retention: "14d"
spec:
  cassandraCluster: cluster-${i % 20}
  datacenter: dc1
  storageLocation: ${location}
  snapshotTag: tag-${i}-nightly
  schedule: "${schedule}"
  secret: ${secret}
  entities: ks${i % 7},ks${(i + 1) % 7}
  bandwidth: 50M
  concurrentConnections: 10
`;
}

export function restore(i: number): string {
  return `apiVersion: db.orange.com/v2
kind: CassandraRestore
metadata:
  name: restore-${i}
  namespace: ns-${(i - 1) % 20}
spec:
  cassandraCluster: cluster-${(i - 1) % 20}
  cassandraBackup: backup-${i - 1}
  datacenter: dc1
  entities: ks${(i - 1) % 7}
`;
}
