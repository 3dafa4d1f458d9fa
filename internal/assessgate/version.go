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

// ReadBuildInfo reads what the Go toolchain recorded in the binary.
func ReadBuildInfo() BuildInfo {
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
