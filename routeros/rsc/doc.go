// Package rsc reads and writes RouterOS v7 configuration text and runs the
// part of the RouterOS scripting language that wgboot's rollback needs.
//
// Exports: Parse reads what /export writes (header comments, menu lines,
// add/set/remove/... commands with key=value arguments, quoted values with
// RouterOS escapes, backslash-continued lines, [ find ... ] and named
// targets); Format and FormatCommand write the same syntax, wrapped the way
// RouterOS wraps it, so that Parse(Format(f)) gives back f.
//
// Scripts: ParseScript and Script.Run interpret menu commands, [find where
// ...] with = != ~ < > and/or/!, :foreach, :if/else, :do/on-error, :local,
// :global, :set, :delay, :log, :put, :error and :len against a Target (a
// router, the simulator or a test fake). ParseDuration and FormatDuration
// convert RouterOS durations.
//
// Out of scope: the menu tree and per-menu defaults (a word is a command
// when it is a known verb such as add or set; the Target rejects unknown
// menus), :return, functions, arrays written as {a;b}, arithmetic, string
// operators such as :pick and :find, and the other :commands. Regular
// expressions are Go's (RE2), which agree with RouterOS's POSIX regexps on
// the common subset. The package imports nothing of the project.
package rsc
