# build.ps1 — the PowerShell twin of build.sh, for PowerShell users on Linux.
#   ./build.ps1 [build|test|pack|bundle]
# It does exactly what build.sh does (one implementation, so they cannot drift):
# the native code needs CMake, a C++ compiler and OpenBLAS, which build.sh installs
# on Debian. On Windows, run it inside WSL (Debian 12).
param([ValidateSet('build', 'test', 'pack', 'bundle')][string]$Command = 'build')
$ErrorActionPreference = 'Stop'
if ($IsWindows) {
    Write-Error "NativeModels builds on Linux (linux-x64). On Windows, run ./build.sh inside WSL (Debian 12)."
    exit 1
}
& bash (Join-Path $PSScriptRoot 'build.sh') $Command
exit $LASTEXITCODE
