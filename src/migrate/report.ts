/**
 * What a conversion says about its input, each item at the line of the input it is about:
 * what was left out (`dropped`: the conversion is incomplete, exit 1), what was carried over
 * with a difference the operator must know (`differs`), and what could not be read at all
 * (`errors`: nothing is written, exit 78).
 */

export type NoteKind = 'dropped' | 'differs';

export interface Note {
  line: number;
  kind: NoteKind;
  /** what the note is about, as the input writes it: "auth_pass", "notify_master". */
  subject: string;
  /** why, in words. */
  text: string;
}

export interface InputError {
  line: number;
  expected: string;
}

export class Report {
  readonly notes: Note[] = [];
  readonly errors: InputError[] = [];

  dropped(line: number, subject: string, text: string): void {
    this.notes.push({ line, kind: 'dropped', subject, text });
  }

  differs(line: number, subject: string, text: string): void {
    this.notes.push({ line, kind: 'differs', subject, text });
  }

  error(line: number, expected: string): void {
    this.errors.push({ line, expected });
  }
}

/** `FILE:LINE: SUBJECT: not carried over: WHY`, or `...: carried over, but WHY`. */
export function formatNote(file: string, n: Note): string {
  const how = n.kind === 'dropped' ? 'not carried over' : 'carried over, but';
  const sep = n.kind === 'dropped' ? ': ' : ' ';
  return `${file}:${n.line}: ${n.subject}: ${how}${sep}${n.text}`;
}

/** Notes in line order (stable for one line), so the list reads down the input file. */
export function sortNotes(notes: readonly Note[]): Note[] {
  return [...notes].sort((a, b) => a.line - b.line);
}
