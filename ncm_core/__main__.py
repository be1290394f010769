from ncm_core.cli import main

main()
