// KubeConfig alone, for shell completion: reading a kubeconfig and signing one GET needs none of
// client-node's API classes and models, which are most of what loading the library costs (~0.2 s
// of CPU). The npm build bundles this module on its own (scripts/build.ts), with client-node's
// modules marked free of side effects so that the models are left out; in one shared bundle they
// could not be, since the bundler assigns whole files to chunks.
export { KubeConfig } from '@kubernetes/client-node';
