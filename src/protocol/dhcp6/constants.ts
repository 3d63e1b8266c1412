/** DHCPv6 numbers from RFC 8415, RFC 5970 (network boot), RFC 3646 (DNS), RFC 6355 (DUID-UUID), RFC 4578 arches. */

export const CLIENT_PORT = 546;
export const SERVER_PORT = 547;
/** All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1): where clients send. */
export const ALL_DHCP_SERVERS = 'ff02::1:2';

export const MessageType = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
  RELAY_FORW: 12,
  RELAY_REPL: 13,
} as const;
export type MessageTypeName = keyof typeof MessageType;
export type MessageTypeCode = (typeof MessageType)[MessageTypeName];

const messageTypeNames = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, code]) => [code, name as MessageTypeName]),
);

export function messageTypeName(code: number): MessageTypeName | undefined {
  return messageTypeNames.get(code);
}

export function isRelayMessageType(code: number): code is 12 | 13 {
  return code === MessageType.RELAY_FORW || code === MessageType.RELAY_REPL;
}

export const Option = {
  CLIENT_ID: 1,
  SERVER_ID: 2,
  IA_NA: 3,
  IA_TA: 4,
  IAADDR: 5,
  ORO: 6,
  PREFERENCE: 7,
  ELAPSED_TIME: 8,
  RELAY_MSG: 9,
  UNICAST: 12,
  STATUS_CODE: 13,
  RAPID_COMMIT: 14,
  USER_CLASS: 15,
  VENDOR_CLASS: 16,
  VENDOR_OPTS: 17,
  INTERFACE_ID: 18,
  RECONF_ACCEPT: 20,
  DNS_SERVERS: 23,
  DOMAIN_LIST: 24,
  IA_PD: 25,
  BOOTFILE_URL: 59,
  BOOTFILE_PARAM: 60,
  CLIENT_ARCH_TYPE: 61,
  NII: 62,
} as const;
export type OptionCode = (typeof Option)[keyof typeof Option];

export const optionNames: Readonly<Record<number, string>> = {
  1: 'client-id',
  2: 'server-id',
  3: 'ia-na',
  4: 'ia-ta',
  5: 'iaaddr',
  6: 'oro',
  7: 'preference',
  8: 'elapsed-time',
  9: 'relay-msg',
  12: 'unicast',
  13: 'status-code',
  14: 'rapid-commit',
  15: 'user-class',
  16: 'vendor-class',
  17: 'vendor-opts',
  18: 'interface-id',
  20: 'reconf-accept',
  23: 'dns-servers',
  24: 'domain-list',
  25: 'ia-pd',
  39: 'client-fqdn',
  59: 'bootfile-url',
  60: 'bootfile-param',
  61: 'client-arch-type',
  62: 'nii',
};

export const StatusCode = {
  SUCCESS: 0,
  UNSPEC_FAIL: 1,
  NO_ADDRS_AVAIL: 2,
  NO_BINDING: 3,
  NOT_ON_LINK: 4,
  USE_MULTICAST: 5,
  NO_PREFIX_AVAIL: 6,
} as const;
export type StatusCodeName = keyof typeof StatusCode;

export const DuidType = {
  LLT: 1,
  EN: 2,
  LL: 3,
  UUID: 4,
} as const;

/** IANA's enterprise number for Intel, which PXE's vendor class (option 16) carries (RFC 5970 §3.4). */
export const ENTERPRISE_INTEL = 343;
/** ARP hardware type of Ethernet, as in DUID-LL/LLT. */
export const HARDWARE_ETHERNET = 1;

/** Inclusive length bounds for option values the codec validates while decoding. */
export const optionLengthRules: Readonly<Record<number, { readonly min: number; readonly max?: number; readonly multiple?: number }>> = {
  1: { min: 2, max: 130 },
  2: { min: 2, max: 130 },
  3: { min: 12 },
  4: { min: 4 },
  5: { min: 24 },
  6: { min: 0, multiple: 2 },
  7: { min: 1, max: 1 },
  8: { min: 2, max: 2 },
  12: { min: 16, max: 16 },
  13: { min: 2 },
  14: { min: 0, max: 0 },
  16: { min: 4 },
  17: { min: 4 },
  20: { min: 0, max: 0 },
  23: { min: 0, multiple: 16 },
  61: { min: 2, multiple: 2 },
  62: { min: 3, max: 3 },
};
