from benchmarks.intake.run import main

main()
