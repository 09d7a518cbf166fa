// Container image references, checked before one goes into a debug pod's spec or through Wireshark's
// Windows launcher (cmd.exe reads its arguments: `&`, `|`, `<`, `>`, `^`, `"` and `%` there run
// commands). The grammar is distribution/reference's, the one kubelet and every registry accept:
//   [HOST[:PORT]/]path/components[:TAG][@ALGORITHM:HEX]
// so a value with spaces, quotes or shell and cmd.exe metacharacters is refused at once with a clear
// error instead of failing later as ErrImagePull, or doing worse on the way. Pure.
import { ExitCode, UserError } from '../errors.ts';

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);

/** distribution/reference's limit on the name part (without tag and digest). */
const MAX_NAME = 255;

/** What is wrong with REF as an image reference; undefined when it is one. */
export function imageProblem(ref: string): string | undefined {
  if (ref === '') return 'it is empty';
  const m = REFERENCE.exec(ref);
  if (!m) return 'it is not an image reference (registry/path/name:tag or @sha256:digest)';
  if (m[1]!.length > MAX_NAME) return `its name is longer than ${MAX_NAME} characters`;
  return undefined;
}

/** Refuses REF unless it is an image reference; SOURCE says where it came from (--image, $KUBECTL_NETNS_IMAGE, a file). */
export function assertImage(ref: string, source: string): void {
  const problem = imageProblem(ref);
  if (problem === undefined) return;
  throw new UserError(`invalid debug image "${ref}" (from ${source}): ${problem}`, {
    exitCode: source.startsWith('--') ? ExitCode.usage : ExitCode.config,
    hint: 'e.g. registry.example.com/tools/netshoot:v0.13, or a name pinned by digest: ...@sha256:<64 hex digits>',
  });
}
