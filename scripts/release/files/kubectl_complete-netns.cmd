@REM kubectl_complete-netns: kubectl 1.26 and newer run this to complete "kubectl netns ..." words.
@REM Put it in a directory on PATH (krew: %USERPROFILE%\.krew\bin). It asks the kubectl-netns.exe on PATH.
@kubectl-netns.exe __complete %*
