from sogenactif.cli import main

main()
