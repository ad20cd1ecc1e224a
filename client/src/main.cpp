#include "convoy/client/app.hpp"

int main(int argc, char** argv) { return convoy::client::run_app(argc, argv); }
