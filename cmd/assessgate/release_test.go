package main

import (
	"debug/elf"
	"debug/macho"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestRelease runs deploy/release.sh as a release does: a static
// (CGO_ENABLED=0) binary for each of linux/amd64, linux/arm64,
// darwin/amd64 and darwin/arm64, each built for its system and processor,
// named by the version and commit it was given; and checks that
// deploy/Dockerfile builds with CGO_ENABLED=0 too, naming its build the
// same way. Each target is one go build: cheap once the build cache has
// it, but minutes on a cold one, past go test's default 10-minute limit;
// so it runs in CI (CI=true, .ci/run) or with ASSESSGATE_TEST_RELEASE=1.
func TestRelease(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("ASSESSGATE_TEST_RELEASE") != "1" {
		t.Skip("builds assessgate for four targets (minutes on a cold build cache): set ASSESSGATE_TEST_RELEASE=1, or CI=true")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("..", "..", "deploy", "release.sh"))
	cmd.Env = append(os.Environ(), "OUT="+out, "VERSION=v9.8.7-test", "COMMIT=0123abc")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy/release.sh: %v\n%s", err, b)
	}
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []struct {
		goos, goarch string
		elf          elf.Machine
		macho        macho.Cpu
	}{
		{"linux", "amd64", elf.EM_X86_64, 0},
		{"linux", "arm64", elf.EM_AARCH64, 0},
		{"darwin", "amd64", 0, macho.CpuAmd64},
		{"darwin", "arm64", 0, macho.CpuArm64},
	} {
		name := "assessgate-v9.8.7-test-" + target.goos + "-" + target.goarch
		if !strings.Contains(string(sums), name+".tar.gz") {
			t.Errorf("SHA256SUMS lacks %s.tar.gz:\n%s", name, sums)
		}
		bin := filepath.Join(out, name, "assessgate")
		switch target.goos {
		case "linux":
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatalf("%s: %v", bin, err)
			}
			// Static: no interpreter (dynamic loader) and no shared libraries.
			libs, _ := f.ImportedLibraries()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s has a dynamic loader: not static", name)
				}
			}
			if f.Machine != target.elf || len(libs) > 0 {
				t.Errorf("%s: machine %v, libraries %v; want %v, none", name, f.Machine, libs, target.elf)
			}
			f.Close()
		case "darwin":
			f, err := macho.Open(bin)
			if err != nil {
				t.Fatalf("%s: %v", bin, err)
			}
			if f.Cpu != target.macho {
				t.Errorf("%s: CPU %v; want %v", name, f.Cpu, target.macho)
			}
			f.Close()
		}
		for _, doc := range []string{"LICENSE", "README.md"} {
			if _, err := os.Stat(filepath.Join(out, name, doc)); err != nil {
				t.Errorf("%s lacks %s", name, doc)
			}
		}
		info, err := exec.Command("go", "version", "-m", bin).Output()
		if err != nil || !strings.Contains(string(info), "CGO_ENABLED=0") {
			t.Errorf("go version -m %s = %v; want a build with CGO_ENABLED=0:\n%s", name, err, info)
		}
		if target.goos == runtime.GOOS && target.goarch == runtime.GOARCH {
			got, err := exec.Command(bin, "version").Output()
			if want := "assessgate v9.8.7-test (commit 0123abc, " + runtime.Version() + ")\n"; err != nil || string(got) != want {
				t.Errorf("%s version = %q, %v; want %q", name, got, err, want)
			}
		}
	}

	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The RUN instruction that builds, with its continuation lines joined.
	text := strings.ReplaceAll(string(dockerfile), "\\\n", " ")
	build := regexp.MustCompile(`(?m)^RUN .*\bgo build\b.*$`).FindString(text)
	for _, want := range []string{"CGO_ENABLED=0 go build", "./cmd/assessgate", "buildVersion=${VERSION}", "buildCommit=${COMMIT}"} {
		if !strings.Contains(build, want) {
			t.Errorf("deploy/Dockerfile's build %q lacks %q", build, want)
		}
	}
}
