/** Several instances sharing one Redis (config `cluster`): connections reachable from any instance (docs/cluster.md). */
export { Cluster, LocalServerAcrossCluster, type LocalServer, type RegistryEntry } from "./cluster.js";
export { ClusterError, type ClusterErrorCode } from "./errors.js";
