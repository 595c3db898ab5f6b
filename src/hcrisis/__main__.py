from hcrisis.cli import main

main()
