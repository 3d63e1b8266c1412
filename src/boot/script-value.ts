/**
 * The one rule for every value that lands in boot text: iPXE scripts, PXELINUX configs, GRUB configs.
 *
 * None of these languages can be quoted reliably. iPXE expands `${…}` everywhere (there is no escape),
 * splits arguments on white space, reads `||` / `&&` as control flow, a leading `#` as a comment and a
 * leading `:` as a label; PXELINUX reads each line as one directive; GRUB's shell runs `;`, `$`, `{ }`.
 * So values are sorted by who wrote them:
 *
 * - **Machine words** come from the network: the `/ipxe` query (`hostname`, `arch`, `platform`, `uuid`),
 *   the DHCP host name (in proxy mode the site's DHCP server fills iPXE's `${hostname}`), the client's
 *   address. One word of letters, digits and `. _ : -`, starting with a letter or digit, at most 253
 *   characters (a DNS name) — or not used at all: the renderer proceeds as if the machine sent nothing.
 *   Such a word means the same thing unquoted in all three languages.
 * - **Operator lines** are what the operator wrote (variables, titles, command lines, paths): trusted to
 *   use the boot loader's own syntax on purpose (`${net0/ip}` in a command line), but always one line:
 *   control characters (newlines above all, which would start a new command) become spaces.
 */

const MACHINE_WORD = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/;

/** The value when it is one safe word, else undefined (the caller treats it as absent). */
export function machineWord(value: string | undefined): string | undefined {
  return value !== undefined && MACHINE_WORD.test(value) ? value : undefined;
}

/** What a machine word may hold, for messages that say why a value was not used. */
export const machineWordRule = 'one word of letters, digits and ". _ : -" (at most 253 characters)';

/** Control characters (line breaks, escapes, NUL) become single spaces; the ends are trimmed. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/**
 * GRUB's shell reads `; | & < > { } $ # \` and quotes as syntax. Inside single quotes nothing is special
 * (no escape either), so a value is closed, escaped and reopened around each quote of its own: one word,
 * read back exactly as given. Words of plain characters stay bare so the config reads naturally.
 */
export function grubWord(text: string): string {
  const value = oneLine(text);
  if (/^[A-Za-z0-9._,:/=+@%-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
