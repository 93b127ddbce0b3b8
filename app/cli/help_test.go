package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"
)

// runMain runs the command with an environment that names no database,
// in a data folder of the test's own.
func runMain(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"GATEHOUSE_DATA_DIR": dir}
	code = Main(context.Background(), Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

// TestEveryCommandHasHelp runs "COMMAND --help" and "help COMMAND" for
// every command of the table: each prints the usage with every flag the
// command defines (the flags the command parses, not a list kept beside
// them), its positional arguments, and an example; and neither opens a
// database or writes a file.
func TestEveryCommandHasHelp(t *testing.T) {
	dir := t.TempDir()
	for _, sp := range commandTable() {
		t.Run(sp.name, func(t *testing.T) {
			f := flagsOf(&sp)
			if f == nil {
				t.Fatalf("%s --help did not stop at the parser: every command must parse its flags before it does anything", sp.name)
			}
			args := append(strings.Fields(sp.name), "--help")
			code, out, errOut := runMain(t, dir, args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.HasPrefix(out, "Usage: gatehouse "+sp.name+" ") {
				t.Fatalf("usage line: %q", out)
			}
			for _, name := range f.names {
				if !strings.Contains(strings.SplitN(out, "\n", 2)[0], " "+name+" ") {
					t.Errorf("usage line does not name %s: %q", name, out)
				}
			}
			f.VisitAll(func(fl *flag.Flag) {
				if !strings.Contains(out, "\n  --"+fl.Name+" ") && !strings.Contains(out, "\n  --"+fl.Name+"\n") {
					t.Errorf("--%s is not listed:\n%s", fl.Name, out)
				}
				if fl.Usage == "" {
					t.Errorf("--%s says nothing of itself", fl.Name)
				}
			})
			if !strings.Contains(out, "\nExample:\n  gatehouse "+sp.name) && !strings.Contains(out, "| gatehouse "+sp.name) {
				t.Errorf("no example:\n%s", out)
			}
			for _, short := range []string{"-h", "-help"} {
				if _, o, _ := runMain(t, dir, append(strings.Fields(sp.name), short)...); o != out {
					t.Errorf("%s differs from --help", short)
				}
			}
			if _, o, _ := runMain(t, dir, append([]string{"help"}, strings.Fields(sp.name)...)...); o != out {
				t.Errorf("help %s differs from %s --help:\n%s", sp.name, sp.name, o)
			}
			// --help after other flags, even ones the command refuses
			// together, still prints the help.
			if code, o, _ := runMain(t, dir, append(strings.Fields(sp.name), "--database-url", "sqlite:/nonexistent/x.db", "--help")...); code != 0 || o != out {
				t.Errorf("--help after a flag: exit %d", code)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("help wrote into the data folder: %v", entries)
	}
	// The top-level help lists every command.
	code, out, _ := runMain(t, dir, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, sp := range commandTable() {
		if !strings.Contains(out, "\n  "+sp.name+" ") {
			t.Errorf("gatehouse --help does not list %s", sp.name)
		}
	}
	for _, args := range [][]string{{"help"}, {}, {"-h"}} {
		if _, o, _ := runMain(t, dir, args...); o != out {
			t.Errorf("%q differs from --help", args)
		}
	}
}

// TestExamplesParse parses every example of the help with the command's
// own flags: an example that names a flag the command lost, or takes a
// positional argument it does not, fails here.
func TestExamplesParse(t *testing.T) {
	for _, sp := range commandTable() {
		for _, line := range strings.Split(strings.TrimSpace(sp.example), "\n") {
			words := shellWords(line)
			at := -1
			for i := range words {
				if strings.Join(words[i:min(i+1+strings.Count(sp.name, " ")+1, len(words))], " ") == "gatehouse "+sp.name {
					at = i
					break
				}
			}
			if at < 0 {
				t.Errorf("%s: example %q does not run gatehouse %s", sp.name, line, sp.name)
				continue
			}
			args := words[at+2+strings.Count(sp.name, " "):]
			for i, w := range args {
				if w == ">" || w == "<" || w == "|" {
					args = args[:i]
					break
				}
			}
			f := flagsOf(&sp)
			f.positional = nil
			if err := f.parse(args); err != nil {
				t.Errorf("%s: example %q: %v", sp.name, line, err)
			}
		}
	}
}

// shellWords splits a command line as a POSIX shell would split these
// examples: on blanks, with '...' and "..." quoting.
func shellWords(line string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// TestTyposAreNamed checks the suggestions for a mistyped command or flag,
// and that what is too far from anything gets none.
func TestTyposAreNamed(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"clinet", "create", "--tenant", "acme"}, `unknown command "clinet create" (did you mean "client create"?`},
		{[]string{"tenant", "lsit"}, `unknown command "tenant lsit" (did you mean "tenant list"?`},
		{[]string{"conection", "list"}, `did you mean "connection list"?`},
		{[]string{"client", "explode"}, `unknown command "client explode" (see gatehouse --help)`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" (see gatehouse --help)`},
		{[]string{"client", "create", "--redirect-url", "https://app.test/cb"}, `unknown flag "--redirect-url" (did you mean --redirect-uri?`},
		{[]string{"client", "create", "--tennant", "acme"}, `(did you mean --tenant?`},
		{[]string{"connection", "create", "--allow-idp-initated"}, `(did you mean --allow-idp-initiated?`},
		{[]string{"user", "list", "--output", "yaml"}, `--output "yaml": json or table`},
		{[]string{"user", "list", "--tenant"}, `--tenant needs a value`},
		{[]string{"client", "create", "--colour", "red"}, `unknown flag "--colour" (see gatehouse client create --help)`},
	} {
		code, out, errOut := runMain(t, dir, tc.args...)
		if code == 0 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want one line with %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestGroupsAndVersion: a group's --help lists its commands; a group
// without a command says the same on stderr and fails; --version prints
// one line.
func TestGroupsAndVersion(t *testing.T) {
	dir := t.TempDir()
	for _, group := range []string{"client", "admin client", "connection"} {
		code, out, _ := runMain(t, dir, append(strings.Fields(group), "--help")...)
		if code != 0 {
			t.Fatalf("%s --help: exit %d", group, code)
		}
		for _, sp := range groupMembers(commandTable(), group) {
			if !strings.Contains(out, "gatehouse "+sp.name+" ") {
				t.Errorf("%s --help does not list %s:\n%s", group, sp.name, out)
			}
		}
		if code, o, e := runMain(t, dir, strings.Fields(group)...); code != 2 || o != "" || e != out {
			t.Errorf("%s alone: exit %d, stdout %q", group, code, o)
		}
	}
	code, out, _ := runMain(t, dir, "--version")
	if code != 0 || !strings.HasPrefix(out, "gatehouse ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("--version: exit %d, %q", code, out)
	}
	if code, _, _ := runMain(t, dir, "--version", "extra"); code == 0 {
		t.Fatal("--version extra: exit 0")
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"redirect-url", "redirect-uri", 1}, {"clinet", "client", 2}} {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
