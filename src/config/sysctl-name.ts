/** sysctl(8) spelling: a '.' inside an interface name (VLAN eth0.100) is written as '/'. */
export function ipv4ConfName(iface: string, key: string): string {
  return `net.ipv4.conf.${iface.replaceAll('.', '/')}.${key}`;
}
