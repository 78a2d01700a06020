package dtscheck

import (
	"reflect"
	"sort"
	"testing"
)

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestParse(t *testing.T) {
	f, err := Parse(`
/** globals */
declare var process: Process;
declare function setTimeout(cb: (...args: any[]) => void, ms?: number): Timeout;
interface Process {
  /** env */
  readonly env: { [key: string]: string | undefined };
  exit(code?: number): never;
  hrtime: {
    (time?: [number, number]): [number, number];
    bigint(): bigint;
  };
}
declare module 'm' {
  // a comment with { braces
  export interface Opts { a?: string; }
  export interface Base { x: number }
  export interface Thing extends Base, Other<string> {
    /* } */
    y(
      p: { q: string },
    ): Promise<{ r: number }>;
    'quoted-name': string;
    [Symbol.asyncIterator](): AsyncIterator<number>;
    [key: string]: unknown;
  }
  export interface Other<T> { z: T }
  export function f(o?: Opts): void;
  export const K: 1;
  export class E extends Error {
    constructor(message?: string);
    static create(): E;
    code?: number;
  }
  type Alias = string;
  const self: typeof import('m');
  export default self;
}
declare module 'node:m' {
  export * from 'm';
}
declare module 'fn' {
  function fn(x: unknown): asserts x;
  namespace fn {
    export function ok(x: unknown): void;
    export class Oops extends Error {}
    export const strict: typeof fn;
  }
  export = fn;
}
declare module 'fn/strict' {
  import fn = require('fn');
  export = fn;
}
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(f.Global.Values); !reflect.DeepEqual(got, []string{"process", "setTimeout"}) {
		t.Errorf("globals %v", got)
	}
	ps, _ := f.Members(nil, "Process")
	if got := keys(ps); !reflect.DeepEqual(got, []string{"env", "exit", "hrtime"}) {
		t.Errorf("Process %v", got)
	}
	m := f.Module("m")
	if got := keys(f.ModuleValues("node:m")); !reflect.DeepEqual(got, []string{"E", "K", "default", "f"}) {
		t.Errorf("node:m values %v", got)
	}
	th, err := f.Members(m, "Thing")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(th); !reflect.DeepEqual(got, []string{"[Symbol.asyncIterator]", "quoted-name", "x", "y", "z"}) {
		t.Errorf("Thing %v", got)
	}
	e, _ := f.Members(m, "E")
	if got := keys(e); !reflect.DeepEqual(got, []string{"code", "message", "name", "stack"}) {
		t.Errorf("E %v", got)
	}
	st, _ := f.Statics(m, "E")
	if got := keys(st); !reflect.DeepEqual(got, []string{"create"}) {
		t.Errorf("E statics %v", got)
	}
	if got := keys(f.ModuleValues("fn/strict")); !reflect.DeepEqual(got, []string{"Oops", "ok", "strict"}) {
		t.Errorf("fn/strict values %v", got)
	}
	u, x := Diff([]string{"a", "b"}, Set("b", "c"))
	if !reflect.DeepEqual(u, []string{"a"}) || !reflect.DeepEqual(x, []string{"c"}) {
		t.Errorf("Diff %v %v", u, x)
	}
}

func TestParseReference(t *testing.T) {
	ref := ParseReference("# Title\n\n## `Channel`\n\n### `channel.queue_declare(queue_name='', …)`\n\ntext\n\n```\n### `not_a_member`\n```\n\n### `channel_id`, `is_open`\n\n## Iterator `it`\n\n### `[Symbol.asyncIterator]()`\n### `it.next()`\n")
	if got := keys(ref["Channel"]); !reflect.DeepEqual(got, []string{"channel_id", "is_open", "queue_declare"}) {
		t.Errorf("Channel %v", got)
	}
	if got := keys(ref["it"]); !reflect.DeepEqual(got, []string{"[Symbol.asyncIterator]", "next"}) {
		t.Errorf("it %v", got)
	}
}
