// The names kubectl-netns uses from @kubernetes/client-node, and only those. client-node.ts
// imports this module lazily; the release bundler (esbuild) then keeps just these classes and what
// they need instead of the whole library (every API group). Add a name here when code needs it.
export {
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  Observable,
  Watch,
} from '@kubernetes/client-node';
