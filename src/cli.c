/* placeholder: implemented in a later commit */
typedef int aw_placeholder_cli;
