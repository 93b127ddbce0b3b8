package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// spec is one command of the table (commandTable): its name, what it
// does in a phrase, an example, and how it runs. Its flags and positional
// arguments are the ones run defines: the help is built from them, so it
// cannot leave one out.
type spec struct {
	name    string
	summary string
	// example is one or more command lines, each starting with
	// "gatehouse NAME"; a test parses each with the command's flags.
	example string
	// notes, when set, is more help printed after the flags (the grant
	// types of the registry, say).
	notes func() string
	run   command
}

// helpRequest is what parse returns for -h or --help: the flags of the
// command, for Main to print its usage.
type helpRequest struct{ f *flags }

func (h *helpRequest) Error() string { return h.f.Name() + ": help requested" }

// Main runs the command and returns its exit code: 0, 1 when the command
// failed, 2 when there is no such command.
func Main(ctx context.Context, env Env) int {
	table := commandTable()
	args := env.Args
	if len(args) == 0 {
		fmt.Fprint(env.Stdout, topUsage(table))
		return 0
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, topUsage(table))
		return 0
	case "help":
		if len(args) == 1 {
			fmt.Fprint(env.Stdout, topUsage(table))
			return 0
		}
		return dispatch(ctx, env, table, append(slices.Clone(args[1:]), "--help"))
	case "-version", "--version", "version":
		if len(args) > 1 {
			fmt.Fprintf(env.Stderr, "gatehouse: unexpected argument %q\n", args[1])
			return 2
		}
		fmt.Fprintln(env.Stdout, versionLine())
		return 0
	}
	return dispatch(ctx, env, table, args)
}

// dispatch runs the command args name, or prints the commands of the
// group args name ("gatehouse client --help").
func dispatch(ctx context.Context, env Env, table []spec, args []string) int {
	sp, rest, ok := lookup(table, args)
	if !ok {
		return unknown(env, table, args)
	}
	// What a command's work logs as an error (a failed audit write, say)
	// goes to standard error; warnings are the command's own message to
	// say (a refused upstream is the command's error already). serve
	// replaces this logger with the node's (GATEHOUSE_LOG_FORMAT,
	// GATEHOUSE_LOG_LEVEL).
	ctx = tenants.WithLogger(ctx, slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	err := sp.run(ctx, env, rest)
	var help *helpRequest
	switch {
	case errors.As(err, &help):
		writeCommandHelp(env.Stdout, sp, help.f)
		return 0
	case err != nil:
		fmt.Fprintln(env.Stderr, "gatehouse: "+oneLine(err))
		return 1
	}
	return 0
}

// lookup finds the command that args name, by its longest name (three
// words, then two, then one), and returns it with the arguments after the
// name.
func lookup(table []spec, args []string) (*spec, []string, bool) {
	for n := min(3, len(args)); n > 0; n-- {
		name := strings.Join(args[:n], " ")
		for i := range table {
			if table[i].name == name {
				return &table[i], args[n:], true
			}
		}
	}
	return nil, nil, false
}

// unknown answers args that name no command: the commands of a group
// ("gatehouse client", "gatehouse client --help"), or one line saying so,
// with the closest command when it looks like a typo.
func unknown(env Env, table []spec, args []string) int {
	for n := min(2, len(args)); n > 0; n-- {
		group := strings.Join(args[:n], " ")
		members := groupMembers(table, group)
		if len(members) == 0 {
			continue
		}
		rest := args[n:]
		if len(rest) == 0 {
			writeGroupHelp(env.Stderr, group, members)
			return 2
		}
		if rest[0] == "-h" || rest[0] == "-help" || rest[0] == "--help" {
			writeGroupHelp(env.Stdout, group, members)
			return 0
		}
		break
	}
	typed := strings.Join(args[:min(3, len(args))], " ")
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			typed = strings.Join(args[:min(i, 3)], " ")
			break
		}
	}
	if near := closestCommand(table, args); near != "" {
		fmt.Fprintf(env.Stderr, "gatehouse: unknown command %q (did you mean %q? see gatehouse --help)\n", typed, near)
	} else {
		fmt.Fprintf(env.Stderr, "gatehouse: unknown command %q (see gatehouse --help)\n", typed)
	}
	return 2
}

// groupMembers returns the commands whose name starts with the words of
// group.
func groupMembers(table []spec, group string) []spec {
	var out []spec
	for _, sp := range table {
		if strings.HasPrefix(sp.name, group+" ") {
			out = append(out, sp)
		}
	}
	return out
}

// Commands returns the name of every command, sorted: the tests walk them
// so that none can be left out.
func Commands() []string {
	var out []string
	for _, sp := range commandTable() {
		out = append(out, sp.name)
	}
	slices.Sort(out)
	return out
}

// versionLine is what gatehouse --version prints: the module version,
// the commit it was built from when known, and the Go release.
func versionLine() string {
	line := "gatehouse " + buildVersion()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return line
	}
	var extra []string
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			extra = append(extra, "commit "+s.Value[:12])
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			extra = append(extra, "modified")
		}
	}
	extra = append(extra, bi.GoVersion)
	return line + " (" + strings.Join(extra, ", ") + ")"
}

// synopsis is "NAME POSITIONAL... [flags]" of sp, with f its flags.
func synopsis(sp *spec, f *flags) string {
	parts := append([]string{sp.name}, f.names...)
	return strings.Join(parts, " ") + " [flags]"
}

// topUsage is gatehouse --help: every command in a line, from the table.
func topUsage(table []spec) string {
	var b strings.Builder
	b.WriteString("gatehouse: a multi-tenant OpenID Connect provider\n\nUsage: gatehouse COMMAND [flags]\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	last := "-"
	for _, sp := range table {
		group, _, _ := strings.Cut(sp.name, " ")
		if !strings.Contains(sp.name, " ") {
			group = "" // serve, migrate
		}
		if last != "-" && group != last {
			fmt.Fprintln(tw, "\t")
		}
		last = group
		fmt.Fprintf(tw, "  %s\t%s\n", sp.name+positionalsOf(sp), sp.summary)
	}
	tw.Flush()
	lines := strings.Split(b.String(), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	b.Reset()
	b.WriteString(strings.Join(lines, "\n"))
	b.WriteString(`
Run "gatehouse help COMMAND" or "gatehouse COMMAND --help" for a command's
flags and an example; "gatehouse --version" for the version.

Every command refuses any argument it does not take. Management commands
work on an existing database: GATEHOUSE_DATABASE_URL (or --database-url),
else the embedded one in GATEHOUSE_DATA_DIR, which only "serve" and
"migrate" create. They read the other GATEHOUSE_* settings too; see
README.md.
`)
	return b.String()
}

// positionalsOf is " SLUG" for a command that takes the positional
// argument SLUG: what its flags name.
func positionalsOf(sp spec) string {
	f := flagsOf(&sp)
	if f == nil || len(f.names) == 0 {
		return ""
	}
	return " " + strings.Join(f.names, " ")
}

// flagsOf returns the flags sp defines: what its run returns for --help,
// before it opens anything.
func flagsOf(sp *spec) *flags {
	var help *helpRequest
	err := sp.run(context.Background(), Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
		Getenv: func(string) string { return "" }}, []string{"--help"})
	if errors.As(err, &help) {
		return help.f
	}
	return nil
}

func writeGroupHelp(w io.Writer, group string, members []spec) {
	fmt.Fprintf(w, "Commands of gatehouse %s:\n", group)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, sp := range members {
		fmt.Fprintf(tw, "  gatehouse %s\t%s\n", sp.name+positionalsOf(sp), sp.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun \"gatehouse %s COMMAND --help\" for a command's flags and an example.\n", group)
}

// writeCommandHelp prints the usage of sp with every flag f defines.
func writeCommandHelp(w io.Writer, sp *spec, f *flags) {
	fmt.Fprintf(w, "Usage: gatehouse %s\n\n%s.\n\nFlags:\n", synopsis(sp, f), upperFirst(sp.summary))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var common *flag.Flag
	f.VisitAll(func(fl *flag.Flag) {
		if fl.Name == "database-url" {
			common = fl
			return
		}
		fmt.Fprintln(tw, flagLine(fl))
	})
	tw.Flush()
	if common != nil {
		fmt.Fprintf(w, "\nCommon flags:\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, flagLine(common))
		tw.Flush()
	}
	if sp.notes != nil {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(sp.notes(), "\n"))
	}
	fmt.Fprintf(w, "\nExample:\n")
	for _, line := range strings.Split(strings.TrimSpace(sp.example), "\n") {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(line))
	}
}

// flagLine is "  --name VALUE\tusage (default x)" for fl.
func flagLine(fl *flag.Flag) string {
	value, usage := flag.UnquoteUsage(fl)
	switch {
	case isBool(fl):
		value = ""
	case value == "string" || value == "value":
		words := strings.Split(fl.Name, "-")
		value = strings.ToUpper(words[len(words)-1])
	case value == "duration":
		value = "DURATION"
	case value == "int":
		value = "N"
	}
	name := "  --" + fl.Name
	if value != "" {
		name += " " + value
	}
	if _, repeatable := fl.Value.(*list); repeatable && !strings.Contains(usage, "repeatable") {
		usage += " (repeatable)"
	}
	if d := fl.DefValue; d != "" && d != "false" && d != "0" && !strings.HasPrefix(d, "-") && !isBool(fl) {
		usage += " (default " + d + ")"
	}
	return name + "\t" + usage
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// closestCommand is the command closest to what args name, when one is
// near enough to be a typo ("clinet create" for "client create"), else "".
func closestCommand(table []spec, args []string) string {
	best, bestD := "", 1<<30
	for n := 1; n <= min(3, len(args)); n++ {
		typed := strings.Join(args[:n], " ")
		for _, sp := range table {
			if strings.Count(sp.name, " ") != n-1 {
				continue
			}
			if d := distance(typed, sp.name); d < bestD && d <= typoBudget(sp.name) {
				best, bestD = sp.name, d
			}
		}
	}
	return best
}

// closest is the name of names closest to typed, when near enough to be a
// typo or typed starts one name only ("--redirect" for --redirect-uri),
// else "".
func closest(typed string, names []string) string {
	best, bestD := "", 1<<30
	var prefixed []string
	for _, n := range names {
		if strings.HasPrefix(n, typed) {
			prefixed = append(prefixed, n)
		}
		if d := distance(typed, n); d < bestD && d <= typoBudget(n) {
			best, bestD = n, d
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// typoBudget is how many edits from name a typo may be.
func typoBudget(name string) int { return max(1, min(3, len(name)/4)) }

// distance is the Levenshtein distance between a and b, in bytes (names
// are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
