package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// versionCmd prints the module version, the commit and its date, and the
// Go release the binary was built with, from the binary's build info.
func versionCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("version: this binary carries no build info")
	}
	fmt.Fprintln(stdout, versionLine(info))
	return nil
}

// versionLine is one line: "candlewire VERSION commit REV (DATE[,
// modified]) GO OS/ARCH"; the commit part is left out when the build did
// not record it (go install of a module version, go run).
func versionLine(info *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	line := "candlewire " + info.Main.Version
	if rev := settings["vcs.revision"]; rev != "" {
		line += " commit " + rev
		if t := settings["vcs.time"]; t != "" {
			line += " (" + t
			if settings["vcs.modified"] == "true" {
				line += ", modified"
			}
			line += ")"
		}
	}
	return fmt.Sprintf("%s %s %s/%s", line, info.GoVersion, runtime.GOOS, runtime.GOARCH)
}
