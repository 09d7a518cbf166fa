/*
 * The sandbox ("pause") process of every pod on the local cluster.
 *
 * It holds the pod's namespaces open and does nothing else: it sleeps in pause(), exits 0 on
 * SIGINT/SIGTERM (so containerd can stop a sandbox at once), and, being PID 1 when the pod shares
 * one PID namespace, reaps any orphaned child so no zombie piles up.
 * Built static by scripts/images/build.ts: `gcc -static -Os -s -o pause pause.c`.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
    (void)sig;
    _exit(0);
}

static void on_child(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "-v") == 0) {
        puts("kubectl-netns pause");
        return 0;
    }
    struct sigaction stop = {.sa_handler = on_stop};
    struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
    sigemptyset(&stop.sa_mask);
    sigemptyset(&child.sa_mask);
    if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 ||
        sigaction(SIGCHLD, &child, NULL) < 0) {
        perror("pause: sigaction");
        return 1;
    }
    for (;;) {
        pause();
    }
}
