{
  "targets": [
    {
      "target_name": "wharf_native",
      "sources": ["native/addon.c", "native/sendfile.c", "native/open.c", "native/list.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
