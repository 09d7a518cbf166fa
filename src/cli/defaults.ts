// Defaults a user sets once instead of on every command: the debug image (air-gapped and mirrored
// clusters cannot pull the public one) and the debug namespace. Precedence, highest first: the
// flag, the environment (KUBECTL_NETNS_IMAGE, KUBECTL_NETNS_DEBUG_NAMESPACE), the config file
// ($KUBECTL_NETNS_CONFIG, else $XDG_CONFIG_HOME/kubectl-netns/config.yaml, else
// ~/.config/kubectl-netns/config.yaml), the built-in.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { ExitCode, UserError } from '../errors.ts';
import { DEFAULT_IMAGE } from '../kube/debug-pod.ts';

export interface UserDefaults {
  image: string;
  debugNamespace: string | undefined;
  /** Where each value came from, for -v and --help. */
  sources: { image: string; debugNamespace: string };
}

/** The config file kubectl-netns reads, whether or not it exists. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_NETNS_CONFIG) return env.KUBECTL_NETNS_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config');
  return join(base, 'kubectl-netns', 'config.yaml');
}

/** The file's `image:` and `debugNamespace:`; a file that is there but wrong is an error naming it. */
function readConfig(path: string): { image?: string; debugNamespace?: string } {
  if (!existsSync(path)) return {};
  let doc: unknown;
  try {
    doc = load(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as Error).message.split('\n')[0]}`, {
      exitCode: ExitCode.config,
      hint: 'it is YAML with the keys image and debugNamespace',
      cause: err,
    });
  }
  if (doc === null || doc === undefined) return {};
  const known = new Set(['image', 'debugNamespace']);
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserError(`${path} must be a YAML mapping`, {
      exitCode: ExitCode.config,
      hint: 'e.g. image: registry.example/netshoot:v0.13',
    });
  }
  for (const [k, v] of Object.entries(doc)) {
    if (!known.has(k))
      throw new UserError(`${path}: unknown key "${k}"`, {
        exitCode: ExitCode.config,
        hint: 'known keys: image, debugNamespace',
      });
    if (typeof v !== 'string' || v === '')
      throw new UserError(`${path}: ${k} must be a non-empty string`, { exitCode: ExitCode.config });
  }
  return doc;
}

/** The defaults in force, with where they came from. */
export function userDefaults(env: NodeJS.ProcessEnv = process.env): UserDefaults {
  const path = configPath(env);
  const file = readConfig(path);
  const pick = (
    envName: string,
    fileValue: string | undefined,
    builtIn: string | undefined,
  ): [string | undefined, string] => {
    if (env[envName]) return [env[envName], `$${envName}`];
    if (fileValue) return [fileValue, path];
    return [builtIn, 'built-in'];
  };
  const [image, imageSource] = pick('KUBECTL_NETNS_IMAGE', file.image, DEFAULT_IMAGE);
  const [debugNamespace, nsSource] = pick('KUBECTL_NETNS_DEBUG_NAMESPACE', file.debugNamespace, undefined);
  return { image: image ?? DEFAULT_IMAGE, debugNamespace, sources: { image: imageSource, debugNamespace: nsSource } };
}
