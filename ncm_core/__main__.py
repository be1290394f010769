from ncm_core.launcher import main

main()
