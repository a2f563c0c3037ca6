print("ttfa")
