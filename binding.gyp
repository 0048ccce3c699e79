# The in-process sender of gratuitous ARP (AF_PACKET), the scheduler calls Node lacks and the
# VIP's add and delete through rtnetlink: src/native/*.c, plain C against Node-API. `npm ci`
# builds it (node-gyp rebuild); scripts/setup.sh rebuilds it when the source is newer than the
# build.
{
  'targets': [
    {
      'target_name': 'haagent_native',
      'sources': ['src/native/haagent_native.c', 'src/native/netlink.c', 'src/native/timer.c', 'src/native/mac.c', 'src/native/udp.c', 'src/native/exec.c', 'src/native/cred.c'],
      'defines': ['_GNU_SOURCE'],
      # Warnings on but not fatal: a newer compiler's new warning must not break an install.
      'cflags': ['-std=gnu11', '-Wall', '-Wextra', '-Wshadow', '-Wstrict-prototypes', '-Wformat=2'],
      'configurations': {
        # node's common.gypi builds Release with -O3; -O2 is plenty for a few syscalls.
        'Release': { 'cflags!': ['-O3'], 'cflags': ['-O2'] },
      },
    },
  ],
}
