package assessgate

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// BuildInfo says which assessgate this is: the module version (a tag, or
// "(devel)" for a build from a work tree), the commit it was built from
// ("+dirty" when the work tree had changes; "unknown" outside a git
// checkout) and the Go version that built it.
type BuildInfo struct {
	Version   string
	Commit    string
	GoVersion string
}

// String is the line "assessgate version" prints.
func (b BuildInfo) String() string {
	return fmt.Sprintf("assessgate %s (commit %s, %s)", b.Version, b.Commit, b.GoVersion)
}

// buildVersion and buildCommit are set by release builds, which may have
// no git checkout to stamp (a container build's context has no .git):
//
//	-ldflags "-X github.com/assessgate/assessgate/internal/assessgate.buildVersion=v1.2.3
//	          -X github.com/assessgate/assessgate/internal/assessgate.buildCommit=abc…"
//
// deploy/release.sh and deploy/Dockerfile do. When set, they win over what
// the toolchain recorded.
var buildVersion, buildCommit string

// ReadBuildInfo reads what the Go toolchain recorded in the binary, or what
// the release build set.
func ReadBuildInfo() BuildInfo {
	b := readToolchainInfo()
	if buildVersion != "" {
		b.Version = buildVersion
	}
	if buildCommit != "" {
		b.Commit = buildCommit
	}
	return b
}

func readToolchainInfo() BuildInfo {
	b := BuildInfo{Version: "unknown", Commit: "unknown", GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if info.Main.Version != "" {
		b.Version = info.Main.Version
	}
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && b.Commit != "unknown" {
		b.Commit += "+dirty"
	}
	return b
}
