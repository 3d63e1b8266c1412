/** DHCPv4 numbers from RFC 2131/2132, RFC 4578 (PXE), RFC 3004, and iPXE's encapsulated space. */

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const MAGIC_COOKIE = 0x63825363;
/** 236-byte fixed header + 4-byte cookie. */
export const OPTIONS_OFFSET = 240;
/** Where BOOTP's sname and file fields lie, and option 52's flags for carrying options in them (RFC 2132 §9.3). */
export const SNAME_OFFSET = 44;
export const SNAME_LENGTH = 64;
export const FILE_OFFSET = 108;
export const FILE_LENGTH = 128;
export const COOKIE_OFFSET = 236;
export const OVERLOAD_FILE = 1;
export const OVERLOAD_SNAME = 2;

/** Some BOOTP relays and old PXE ROMs drop replies shorter than the BOOTP minimum. */
export const BOOTP_MINIMUM_SIZE = 300;
/** RFC 2131 §2: every client must accept 576-byte IP datagrams, i.e. a 548-byte DHCP message. */
export const DEFAULT_MAX_MESSAGE_SIZE = 576;
export const BROADCAST_FLAG = 0x8000;

export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;

const messageTypeNames = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, code]) => [code, name as MessageTypeName]),
);

export function messageTypeName(code: number | undefined): MessageTypeName | undefined {
  return code === undefined ? undefined : messageTypeNames.get(code);
}

export const Option = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  LOG_SERVERS: 7,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST_ADDRESS: 28,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66,
  BOOTFILE_NAME: 67,
  USER_CLASS: 77,
  CLIENT_FQDN: 81,
  RELAY_AGENT: 82,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_UUID: 97,
  DOMAIN_SEARCH: 119,
  CLASSLESS_ROUTES: 121,
  IPXE: 175,
  END: 255,
} as const;

export const optionNames: Readonly<Record<number, string>> = {
  1: 'subnet-mask',
  3: 'router',
  6: 'dns-servers',
  7: 'log-servers',
  12: 'hostname',
  15: 'domain-name',
  28: 'broadcast-address',
  43: 'vendor-specific',
  50: 'requested-ip',
  51: 'lease-time',
  52: 'overload',
  53: 'message-type',
  54: 'server-id',
  55: 'parameter-request-list',
  56: 'message',
  57: 'max-message-size',
  58: 'renewal-time',
  59: 'rebinding-time',
  60: 'vendor-class',
  61: 'client-id',
  66: 'tftp-server-name',
  67: 'bootfile-name',
  77: 'user-class',
  81: 'client-fqdn',
  82: 'relay-agent',
  93: 'client-arch',
  94: 'client-ndi',
  97: 'client-uuid',
  119: 'domain-search',
  121: 'classless-routes',
  175: 'ipxe',
};

/**
 * Lengths an option must have to mean anything; a violation is a decode error naming the option's offset.
 * `multiple` = the value is a list of fixed-size items.
 */
export const optionLengthRules: Readonly<Record<number, { readonly min: number; readonly max?: number; readonly multiple?: number }>> = {
  1: { min: 4, max: 4 },
  3: { min: 4, multiple: 4 },
  6: { min: 4, multiple: 4 },
  7: { min: 4, multiple: 4 },
  28: { min: 4, max: 4 },
  50: { min: 4, max: 4 },
  51: { min: 4, max: 4 },
  52: { min: 1, max: 1 },
  53: { min: 1, max: 1 },
  54: { min: 4, max: 4 },
  57: { min: 2, max: 2 },
  58: { min: 4, max: 4 },
  59: { min: 4, max: 4 },
  60: { min: 1 },
  61: { min: 2 },
  93: { min: 2, multiple: 2 },
  94: { min: 3, max: 3 },
};

/** RFC 4578 §2.1 / IANA "Processor Architecture Types". */
export const ClientArch = {
  BIOS: 0,
  NEC_PC98: 1,
  ITANIUM: 2,
  DEC_ALPHA: 3,
  ARC_X86: 4,
  INTEL_LEAN: 5,
  EFI_IA32: 6,
  EFI_X64_BC: 7,
  EFI_XSCALE: 8,
  EFI_X64: 9,
  EFI_ARM32: 10,
  EFI_ARM64: 11,
  EFI_X86_HTTP: 15,
  EFI_X64_HTTP: 16,
  EFI_ARM32_HTTP: 18,
  EFI_ARM64_HTTP: 19,
} as const;

export const clientArchNames: Readonly<Record<number, string>> = {
  0: 'x86 BIOS',
  1: 'NEC PC98',
  2: 'Itanium',
  3: 'DEC Alpha',
  4: 'Arc x86',
  5: 'Intel Lean Client',
  6: 'UEFI x86',
  7: 'UEFI x64',
  8: 'UEFI Xscale',
  9: 'UEFI x64',
  10: 'UEFI ARM32',
  11: 'UEFI ARM64',
  15: 'UEFI x86 HTTP',
  16: 'UEFI x64 HTTP',
  18: 'UEFI ARM32 HTTP',
  19: 'UEFI ARM64 HTTP',
};

/** PXE vendor sub-options carried inside option 43 (PXE spec 2.1, table 2-1). */
export const PxeSubOption = {
  DISCOVERY_CONTROL: 6,
  BOOT_SERVERS: 8,
  BOOT_MENU: 9,
  MENU_PROMPT: 10,
  BOOT_ITEM: 71,
} as const;

/** iPXE's encapsulated option 175 (iPXE's include/ipxe/dhcp.h). */
export const IpxeSubOption = {
  PRIORITY: 1,
  KEEP_SAN: 8,
  SKIP_SAN_BOOT: 9,
  NO_PXEDHCP: 176,
  BUS_ID: 177,
  VERSION: 235,
} as const;

export const ipxeSubOptionNames: Readonly<Record<number, string>> = {
  1: 'priority',
  8: 'keep-san',
  9: 'skip-san-boot',
  16: 'pxeext',
  17: 'iscsi',
  18: 'aoe',
  19: 'http',
  20: 'https',
  21: 'tftp',
  22: 'ftp',
  23: 'dns',
  24: 'bzimage',
  25: 'multiboot',
  26: 'slam',
  27: 'srp',
  32: 'nbi',
  33: 'pxe',
  34: 'elf',
  35: 'comboot',
  36: 'efi',
  37: 'fcoe',
  38: 'vlan',
  39: 'menu',
  40: 'sdi',
  41: 'nfs',
  176: 'no-pxedhcp',
  177: 'bus-id',
  189: 'san-filename',
  235: 'version',
};
