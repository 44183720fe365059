def f(cell):
    return cell.cell_contents

def transformEvent(event, metadata):
    return event
