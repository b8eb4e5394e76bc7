app_name = "materials"
urlpatterns = []
