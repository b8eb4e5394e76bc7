app_name = "buying"
urlpatterns = []
