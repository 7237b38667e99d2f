from warning.cli import main

main()
