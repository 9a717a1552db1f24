import ArgumentParser

VisPruner.main()
