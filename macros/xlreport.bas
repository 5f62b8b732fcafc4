Attribute VB_Name = "xlreportRibbon"
' The ribbon callbacks of the xlreport add-in (tab "Delårsrapport", see customUI.xml).
' Each button makes one call to Python through xlwings' RunPython (module xlwings in this
' project); the Python side, xlreport.doors.excel, reads the workbook, runs the checks, writes the
' results and reports the outcome to the user in Swedish.
Option Explicit

Private Function HasWorkbook() As Boolean
    HasWorkbook = Not ActiveWorkbook Is Nothing
    If Not HasWorkbook Then MsgBox "Öppna delårsrapportens arbetsbok först.", vbInformation, "Delårsrapport"
End Function

Sub Kontrollera(control As IRibbonControl)
    If HasWorkbook() Then RunPython "import xlreport.doors.excel as door; door.kontrollera()"
End Sub

Sub BeraknaAvvikelser(control As IRibbonControl)
    If HasWorkbook() Then RunPython "import xlreport.doors.excel as door; door.berakna_avvikelser()"
End Sub

Sub KontrolleraPersonal(control As IRibbonControl)
    If HasWorkbook() Then RunPython "import xlreport.doors.excel as door; door.kontrollera_personal()"
End Sub

Sub SkapaRapport(control As IRibbonControl)
    If HasWorkbook() Then RunPython "import xlreport.doors.excel as door; door.skapa_rapport()"
End Sub

Sub UppdateraAllt(control As IRibbonControl)
    If HasWorkbook() Then RunPython "import xlreport.doors.excel as door; door.uppdatera_allt()"
End Sub

Sub NastaFynd(control As IRibbonControl)
    If HasWorkbook() Then RunPython "import xlreport.doors.excel as door; door.nasta_fynd()"
End Sub
