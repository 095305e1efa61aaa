// Runs before the first paint (a blocking script in <head>): the theme chosen in Settings
// (kept in localStorage) is on <html> before anything is drawn, so a reload never flashes the
// other theme. No choice: the CSS follows the system's light or dark setting.
try {
  var theme = localStorage.getItem("chatkeep.theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch (e) {}
