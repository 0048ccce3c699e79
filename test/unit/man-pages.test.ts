/**
 * The man pages and the bash completion are written by hand (man/, packaging/deb/), so these
 * checks keep them in step with the program: every command and option of `haagent --help` and
 * of each command's --help (from the program's own parser) is in haagent(8) and in the
 * completion, every key the configuration reference (docs/configuration.md) lists is in
 * haagent.yaml(5), and man(1) renders both pages without a warning.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parser } from '../../src/cli/parser.js';

const PAGE8 = readFileSync('man/man8/haagent.8', 'utf8');
const PAGE5 = readFileSync('man/man5/haagent.yaml.5', 'utf8');
const COMPLETION = readFileSync('packaging/deb/haagent.bash-completion', 'utf8');

/** The help text `haagent ARGS --help` prints, from the program's own parser (no process started). */
function help(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const exit = (code: number): never => {
      throw new Error(`haagent ${args.join(' ')} --help: exit ${code}`);
    };
    parser([], exit).parse([...args, '--help'], {}, (err, _argv, output) => (err ? reject(err) : resolve(output)));
  });
}

/** The command words under "Commands:" of a help text (`haagent realserver up ...` gives up). */
function commandsOf(text: string, prefix: string[]): string[] {
  const lead = ['haagent', ...prefix].join(' ');
  return [...text.matchAll(new RegExp(`^  ${lead} ([a-z-]+)`, 'gm'))].map((m) => m[1]!);
}

/** The long options under "Options:" of a help text. */
function optionsOf(text: string): string[] {
  return [...text.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
}

/** A roff page writes "-" as "\-": the text a reader sees. */
const plain = (roff: string): string => roff.replace(/\\-/g, '-').replace(/\\f[BIR]/g, '');

const top = await help([]);
const commands = commandsOf(top, []);
const realserver = commandsOf(await help(['realserver']), ['realserver']);

t.test('the help lists the commands these checks walk', async (t) => {
  t.ok(commands.length >= 12, `${commands.length} commands: ${commands.join(' ')}`);
  t.same(realserver, ['up', 'down', 'check'], 'realserver has up, down and check');
});

t.test('haagent(8) and the completion name every command and every option', async (t) => {
  const page = plain(PAGE8);
  const listed = /local commands="([^"]+)"/.exec(COMPLETION)?.[1]?.split(' ') ?? [];
  t.same([...listed].sort(), [...commands].sort(), 'the completion offers exactly the commands of --help');
  for (const c of commands) {
    t.match(page, new RegExp(`^\\.SS "haagent ${c}[ "]`, 'm'), `haagent(8) has a section for ${c}`);
    const words = c === 'realserver' ? realserver.map((s) => [c, s]) : [[c]];
    for (const w of words) {
      for (const o of optionsOf(await help(w))) {
        if (o === '--help' || o === '--version' || o === '--config') continue;
        t.ok(page.includes(o), `haagent(8) describes ${w.join(' ')} ${o}`);
        t.ok(COMPLETION.includes(o), `the completion offers ${w.join(' ')} ${o}`);
      }
    }
  }
  for (const o of optionsOf(top)) t.ok(page.includes(o), `haagent(8) describes the global ${o}`);
});

t.test('haagent.yaml(5) names every key of the configuration reference', async (t) => {
  const doc = readFileSync('docs/configuration.md', 'utf8');
  const keysPart = doc.slice(doc.indexOf('## Keys'), doc.indexOf('## The key file'));
  const keys = new Set([...keysPart.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!));
  t.ok(keys.size >= 60, `${keys.size} keys in docs/configuration.md`);
  const page = plain(PAGE5);
  for (const k of keys) t.ok(new RegExp(`^\\.(B|BR) ${k}\\b`, 'm').test(page), `haagent.yaml(5) names ${k}, in bold`);
});

t.test('both pages carry the version of package.json', async (t) => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  for (const [name, page] of [['haagent(8)', PAGE8], ['haagent.yaml(5)', PAGE5]] as const) {
    t.match(page.split('\n')[0], `"haagent ${version}"`, `${name}: .TH names haagent ${version}`);
  }
});

const hasMan = spawnSync('sh', ['-c', 'command -v man']).status === 0;
t.test('man renders both pages without a warning', { skip: hasMan ? false : 'man not installed' }, async (t) => {
  for (const page of ['man/man8/haagent.8', 'man/man5/haagent.yaml.5']) {
    const r = spawnSync('man', ['--warnings', '-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } });
    t.equal(r.status, 0, `${page}: exit 0`);
    t.equal(r.stderr.trim(), '', `${page}: no warnings`);
    t.ok(r.stdout.length > 2000, `${page}: ${r.stdout.length} characters rendered`);
  }
});

t.test('the completion script is valid bash and completes commands, options and choices', async (t) => {
  const run = (words: string[]): string[] => {
    const script = `${COMPLETION}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _haagent; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    t.equal(r.status, 0, `bash completes ${words.join(' ')}`, { stderr: r.stderr });
    return r.stdout.split('\n').filter(Boolean);
  };
  t.same(run(['haagent', 'sta']).sort(), ['standby', 'status'], 'haagent sta<TAB>');
  t.same(run(['haagent', 'maintenance', '']).sort(), ['off', 'on'], 'haagent maintenance <TAB>');
  t.same(run(['haagent', 'realserver', '']).filter((w) => !w.startsWith('-')), ['up', 'down', 'check'], 'haagent realserver <TAB>');
  t.ok(run(['haagent', '-c', 'x.yaml', 'status', '--j']).includes('--json'), 'options after -c FILE');
  t.ok(run(['haagent', 'realserver', 'check', '--from']).includes('--from-director'), 'realserver check options');
});
