from tutor.tui.launch import main

main()
